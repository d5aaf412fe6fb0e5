import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { tenantHasReceivers, tenantTaken, type Tenants } from '../domain/tenants.js';
import { notFound } from '../errors.js';
import { TENANT_ID_PATTERN } from '../shapes/common.js';
import {
  CreateTenantSchema,
  PatchTenantSchema,
  PortalLinkResponse,
  PortalRequestSchema,
  TenantDeleteQuerySchema,
  TenantListQuerySchema,
  TenantPageResponse,
  TenantParamsSchema,
  TenantResponse,
} from '../shapes/tenants.js';
import { errorBodyOf } from './errors.js';
import { errorResponses, patternMismatch, withExample } from './schemas.js';
import { tenantExamples } from './tenant-examples.js';

const tags = ['tenants'];
const tenantNotFound = errorBodyOf(notFound('tenant acme'));
const badTenantId = patternMismatch('params.id', TENANT_ID_PATTERN);
const tenantResponse = withExample(TenantResponse, tenantExamples.tenant);
const params = withExample(TenantParamsSchema, { id: 'acme' });

/** Tenants: each route is its schema and one call to the tenants module. */
export const tenantRoutes: FastifyPluginCallbackTypebox<{ tenants: Tenants }> = (app, { tenants }, done) => {
  app.post(
    '/tenants',
    {
      schema: {
        tags,
        operationId: 'createTenant',
        summary: 'Create a tenant (one of your customers); you choose its id',
        body: withExample(CreateTenantSchema, tenantExamples.newTenant),
        response: { 201: tenantResponse, ...errorResponses(patternMismatch('id', TENANT_ID_PATTERN), errorBodyOf(tenantTaken('acme'))) },
      },
    },
    async (request, reply) => reply.status(201).send(await tenants.create(request.body, request.log)),
  );

  app.get(
    '/tenants',
    {
      schema: {
        tags,
        operationId: 'listTenants',
        summary: 'List tenants by id',
        querystring: TenantListQuerySchema,
        response: {
          200: withExample(TenantPageResponse, { data: [tenantExamples.tenant], next: null }),
          ...errorResponses(patternMismatch('querystring.cursor', TENANT_ID_PATTERN)),
        },
      },
    },
    async (request) => tenants.list(Number(request.query.limit ?? 50), request.query.cursor),
  );

  app.get(
    '/tenants/:id',
    {
      schema: {
        tags,
        operationId: 'getTenant',
        summary: 'Get a tenant',
        params,
        response: { 200: tenantResponse, ...errorResponses(badTenantId, tenantNotFound) },
      },
    },
    async (request) => tenants.get(request.params.id),
  );

  app.patch(
    '/tenants/:id',
    {
      schema: {
        tags,
        operationId: 'updateTenant',
        summary: "Change a tenant's name or metadata (replaced whole)",
        params,
        body: withExample(PatchTenantSchema, tenantExamples.tenantPatch),
        response: { 200: tenantResponse, ...errorResponses(badTenantId, tenantNotFound) },
      },
    },
    async (request) => tenants.update(request.params.id, request.body, request.log),
  );

  app.delete(
    '/tenants/:id',
    {
      schema: {
        tags,
        operationId: 'deleteTenant',
        summary: 'Delete a tenant: 409 while it has receivers, unless ?cascade=true deletes them (and their queues) first',
        params,
        querystring: TenantDeleteQuerySchema,
        response: { 204: Type.Null(), ...errorResponses(badTenantId, tenantNotFound, errorBodyOf(tenantHasReceivers('acme', 2))) },
      },
    },
    async (request, reply) => {
      await tenants.delete(request.params.id, request.query.cascade === 'true', request.log, request.principal);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/tenants/:id/portal',
    {
      schema: {
        tags,
        operationId: 'createPortalLink',
        summary: "A link to the consumer portal for this tenant: its receivers, messages and dead letters, with a short-lived token in the link's fragment",
        params,
        body: withExample(PortalRequestSchema, tenantExamples.portalRequest),
        response: { 201: withExample(PortalLinkResponse, tenantExamples.portalLink), ...errorResponses(badTenantId, tenantNotFound) },
      },
    },
    async (request, reply) => {
      const base = `${request.protocol}://${request.host}`;
      return reply.status(201).send(await tenants.portal(request.params.id, request.body?.expiresInS, base, request.log));
    },
  );
  done();
};
