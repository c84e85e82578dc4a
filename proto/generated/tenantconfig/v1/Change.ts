// Original file: proto/tenantconfig/v1/config.proto

import type { Long } from '@grpc/proto-loader';

export interface Change {
  'key'?: (string);
  'value_json'?: (string);
  'version'?: (number | string | Long);
  'deleted'?: (boolean);
  'cursor'?: (string);
  'updated_at'?: (string);
  'updated_by'?: (string);
  'tenant_id'?: (string);
  'source'?: (string);
}

export interface Change__Output {
  'key': (string);
  'value_json': (string);
  'version': (number);
  'deleted': (boolean);
  'cursor': (string);
  'updated_at': (string);
  'updated_by': (string);
  'tenant_id': (string);
  'source': (string);
}
