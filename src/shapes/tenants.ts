import { Type, type Static } from '@sinclair/typebox';
import { OrNull, PageSchema, Response, TENANT_ID_PATTERN } from './common.js';
import { ListQuerySchema } from './receivers.js';

export const TenantIdSchema = Type.String({ pattern: TENANT_ID_PATTERN, description: 'tenant id (chosen by the caller)', examples: ['acme'] });

const tenantFields = {
  name: Type.String({ minLength: 1, maxLength: 256, examples: ['Acme Ltd'] }),
  metadata: Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 }), {
    maxProperties: 64,
    description: 'free string values for your own use (your customer number, a plan name)',
    examples: [{ customerNumber: '42' }],
  }),
};

/** POST /v1/tenants. */
export const CreateTenantSchema = Type.Object(
  { id: TenantIdSchema, name: Type.Optional(tenantFields.name), metadata: Type.Optional(tenantFields.metadata) },
  { additionalProperties: false },
);
export type CreateTenant = Static<typeof CreateTenantSchema>;

/** PATCH /v1/tenants/:id: the name, the metadata (replaced whole), or both. */
export const PatchTenantSchema = Type.Object(
  { name: Type.Optional(tenantFields.name), metadata: Type.Optional(tenantFields.metadata) },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchTenant = Static<typeof PatchTenantSchema>;

export const TenantSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  metadata: tenantFields.metadata,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Tenant = Static<typeof TenantSchema>;
export const TenantResponse = Response(TenantSchema);
export const TenantPageResponse = Response(PageSchema(TenantSchema));

export const TenantParamsSchema = Type.Object({ id: TenantIdSchema });

export const TenantListQuerySchema = ListQuerySchema(TENANT_ID_PATTERN);

export const TenantDeleteQuerySchema = Type.Object(
  { cascade: Type.Optional(Type.String({ enum: ['true', 'false'], description: '`true`: delete its receivers (and their queues) too' })) },
  { additionalProperties: false },
);

/** POST /v1/tenants/:id/portal. */
export const PortalRequestSchema = OrNull(
  Type.Object(
    {
      expiresInS: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 7 * 86400, description: 'how long the link works, in seconds (default 3600, at most 7 days)', examples: [3600] }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type PortalRequest = Static<typeof PortalRequestSchema>;

export const PortalLinkSchema = Type.Object({
  url: Type.String({ description: 'the consumer portal, with a short-lived `tenant:<id>` token in its fragment (`#token=…`): hand it over as a secret' }),
  expiresAt: Type.String(),
});
export type PortalLink = Static<typeof PortalLinkSchema>;
export const PortalLinkResponse = Response(PortalLinkSchema);
