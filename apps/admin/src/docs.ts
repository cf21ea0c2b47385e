import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject, SchemaObject } from '@nestjs/swagger';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { contractSchemas } from '@app/contracts';

/** Builds the OpenAPI document of both audiences, with Dojo's contract schemas as components. */
export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('epos-relay admin')
    .setDescription(
      'Operator API (software houses, locations, registration, webhook secrets, venue tokens; `Bearer <operator token>`) and ' +
        "venue API (a venue's orders, parties, reservations, areas, tables, bill template and its feed; `Bearer <venue token>`).\n\n" +
        'Errors are JSON `{statusCode, error, message, fields?}`; each entry of `fields` names a field path and a reason. ' +
        'Query parameters a route does not document are refused with 400 naming them. ' +
        'Text containing NUL (\\u0000) or unpaired UTF-16 surrogates, and JSON nested more than 64 levels, are refused with 400 naming the field. ' +
        'Venue writes naming a table the venue does not have are refused with 400. ' +
        'Venue bodies: ids (id, *Id, items of *Ids) of at most 256 characters and other strings of at most 16,384; date-times whose year in UTC is 1 to 9999; at most 1,000 items in an order; otherwise 400 naming the field. ' +
        "A failed Dojo call is 502 dojo_error with dojoStatus; the venue API's message does not quote Dojo. " +
        'Bodies over ADMIN_MAX_BODY_BYTES get 413. Operator lists page with `limit` and `cursor` (the previous page\'s `nextCursor`, null on the last page); the venue feed with `after`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'one of ADMIN_OPERATOR_TOKENS' }, 'operator')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a venue token issued for the location in the path' }, 'venue')
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  const contract = contractSchemas() as Record<string, SchemaObject>;
  doc.components = { ...doc.components, schemas: { ...contract, ...(doc.components?.schemas ?? {}) } };
  return doc;
}

/** Serves the document at /docs (UI) and /docs-json. */
export function setupDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApi(app), { jsonDocumentUrl: 'docs-json' });
}
