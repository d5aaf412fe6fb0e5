import { Type, type Static } from '@sinclair/typebox';
import { Nullable, PageSchema, Response, SCOPE_PATTERN, TOKEN_ID_PATTERN } from './common.js';
import { ListQuerySchema } from './receivers.js';

export const ScopeSchema = Type.String({
  pattern: SCOPE_PATTERN,
  description:
    "`admin` (everything), `publish` (post messages for any tenant, nothing else), `tenant:<id>` (that tenant's receivers, messages and dead letters)",
});

/** POST /v1/tokens. */
export const CreateTokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, examples: ['billing publisher'] }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 8, uniqueItems: true, examples: [['publish']] }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'refused from this time on; absent = until revoked' })),
  },
  { additionalProperties: false },
);
export type CreateToken = Static<typeof CreateTokenSchema>;

/** A token as GET /v1/tokens lists it: never the token itself. */
export const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  expiresAt: Nullable('string'),
  createdAt: Type.String(),
});
export type Token = Static<typeof TokenSchema>;
export const TokenPageResponse = Response(PageSchema(TokenSchema));

/** The 201 of a create: the only answer that carries the token. */
export const CreatedTokenResponse = Response(
  Type.Object({ ...TokenSchema.properties, token: Type.String({ description: 'the bearer token: shown this once, stored only as its SHA-256' }) }),
);
export type CreatedToken = Static<typeof CreatedTokenResponse>;

export const TokenParamsSchema = Type.Object({
  id: Type.String({ pattern: TOKEN_ID_PATTERN, description: 'token id (tok_…)', examples: ['tok_01m81ty179n6nkc35tt72nyn5c'] }),
});

export const TokenListQuerySchema = ListQuerySchema(TOKEN_ID_PATTERN);
