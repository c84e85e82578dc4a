// Original file: proto/tenantconfig/v1/config.proto


export interface Reconnect {
  'reason'?: (string);
}

export interface Reconnect__Output {
  'reason': (string);
}
