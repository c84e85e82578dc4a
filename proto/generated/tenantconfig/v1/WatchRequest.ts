// Original file: proto/tenantconfig/v1/config.proto


export interface WatchRequest {
  'prefixes'?: (string)[];
  'resume_cursor'?: (string);
  'paged_snapshots'?: (boolean);
  'tenants'?: (string)[];
  'include_attributes'?: (boolean);
}

export interface WatchRequest__Output {
  'prefixes': (string)[];
  'resume_cursor': (string);
  'paged_snapshots': (boolean);
  'tenants': (string)[];
  'include_attributes': (boolean);
}
