// Original file: proto/tenantconfig/v1/config.proto

import type { Long } from '@grpc/proto-loader';

export interface Item {
  'key'?: (string);
  'value_json'?: (string);
  'version'?: (number | string | Long);
  'updated_at'?: (string);
  'updated_by'?: (string);
  'tenant_id'?: (string);
  'source'?: (string);
}

export interface Item__Output {
  'key': (string);
  'value_json': (string);
  'version': (number);
  'updated_at': (string);
  'updated_by': (string);
  'tenant_id': (string);
  'source': (string);
}
