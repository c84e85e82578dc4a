/**
 * The trace id of a write, carried as data across the hops X-Ray cannot follow (DynamoDB
 * Streams → Pipe → EventBridge → cache-refresh).
 *
 * - DynamoDB: the config-api's DynamoDB client stamps the invocation's root trace id into every
 *   item it puts on the tenant table, as the string attribute `traceId`. The item codec ignores
 *   it, the next put overwrites it, and the stream's NEW_AND_OLD_IMAGES brings it to the
 *   cache-refresh, which logs it as `writeTraceId`.
 * - Parameter Store: a "Parameter Store Change" event carries no data of the writer, so the
 *   cache-refresh logs the event's own `id` (`changeEventId`) with the parameter and version;
 *   the config-api's log line of the write carries its trace id and the same key and version.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The item attribute that holds the writer's X-Ray root trace id. */
export const WRITE_TRACE_ATTRIBUTE = 'traceId';

type AttributeMap = Record<string, unknown>;

/**
 * Adds the `traceId` attribute to the Item of every PutItem on `tableName`, whenever `traceId()`
 * has one (it is read per request: each invocation has its own). One middleware per client,
 * added once at start; nothing else of the request changes.
 */
export function stampWriteTrace(client: DynamoDBClient, tableName: string, traceId: () => string | undefined): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; Item?: AttributeMap };
      const id = context.commandName === 'PutItemCommand' && input.TableName === tableName && input.Item ? traceId() : undefined;
      if (!id) return next(args);
      return next({ ...args, input: { ...input, Item: { ...input.Item, [WRITE_TRACE_ATTRIBUTE]: { S: id } } } });
    },
    { step: 'initialize', name: 'stampWriteTrace' },
  );
}

/** What ties a change event to the write that made it, for the refresh's log line. */
export interface ChangeOrigin {
  /** The writer's X-Ray root trace id (DynamoDB stream images of items the config-api wrote). */
  readonly writeTraceId?: string;
  /** The EventBridge event's id (every event; the only handle a Parameter Store change has). */
  readonly changeEventId?: string;
}

const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

/** Reads the origin of a change event without trusting its shape; never throws. */
export function changeOriginOf(event: unknown): ChangeOrigin {
  if (typeof event !== 'object' || event === null) return {};
  const e = event as { id?: unknown; detail?: { dynamodb?: { NewImage?: Record<string, { S?: unknown }> } } };
  const changeEventId = typeof e.id === 'string' ? e.id.slice(0, 128) : undefined;
  const stamped = e.detail?.dynamodb?.NewImage?.[WRITE_TRACE_ATTRIBUTE]?.S;
  // Only a well-formed id reaches a log line: the attribute could have been written by anyone.
  const writeTraceId = typeof stamped === 'string' && TRACE_ID.test(stamped) ? stamped : undefined;
  return { ...(writeTraceId ? { writeTraceId } : {}), ...(changeEventId ? { changeEventId } : {}) };
}
