import { Ajv2020 } from 'ajv/dist/2020.js';

/** The parts of the OpenAPI document (/docs/json) the document's tests read, and helpers to read them. */

export interface Media {
  schema?: object;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Response {
  description?: string;
  content?: Record<string, Media>;
}
export interface Operation {
  summary?: string;
  operationId?: string;
  parameters?: { in: string; name: string; example?: unknown }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
}
export interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}
export interface Documented {
  name: string;
  method: string;
  path: string;
  operation: Operation;
}
export interface ErrorExample {
  statusCode?: number;
  code?: string;
  message?: string;
  field?: string;
}

/** The examples a media type shows: `example`, or each of `examples`. */
export const examplesOf = (media: Media): unknown[] =>
  media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value);

export const operationsOf = (doc: OpenApi): Documented[] =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, operation })),
  );

/** The code each documented error status answers with. */
export const CODES_OF_STATUS: Record<string, string[]> = {
  400: ['LOCKSTEP_BAD_FIELD'],
  401: ['LOCKSTEP_UNAUTHORIZED'],
  403: ['LOCKSTEP_FORBIDDEN'],
  404: ['LOCKSTEP_NOT_FOUND'],
  // a batch cut; a tenant id taken or a tenant that still has receivers
  409: ['LOCKSTEP_BAD_FIELD', 'LOCKSTEP_CONFLICT'],
  413: ['LOCKSTEP_BAD_FIELD'],
  422: ['LOCKSTEP_BAD_FIELD'],
  503: ['LOCKSTEP_REDIS_UNAVAILABLE'],
};

export const isSuccess = (status: string): boolean => status.startsWith('2');

/** The JSON example of one documented response, if it has one. */
export const jsonExampleOf = (operation: Operation, status: number): ErrorExample | undefined => {
  const media = operation.responses[String(status)]?.content?.['application/json'];
  return media ? (examplesOf(media)[0] as ErrorExample | undefined) : undefined;
};

/**
 * A validator for the document's schemas. OpenAPI 3.1 schemas are JSON Schema 2020-12; `example`
 * is an OpenAPI annotation, declared so that strict mode still catches anything else.
 */
export function openApiAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  ajv.addKeyword({ keyword: 'example' });
  ajv.addFormat('date-time', (value: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) && !Number.isNaN(Date.parse(value)));
  return ajv;
}
