// Original file: proto/tenantconfig/v1/config.proto


export interface Heartbeat {
  'cursor'?: (string);
}

export interface Heartbeat__Output {
  'cursor': (string);
}
