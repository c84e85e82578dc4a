/**
 * Just enough of a Cognito user pools client for tests: SigV4-signed AWS JSON 1.1 calls
 * over fetch. The project does not depend on @aws-sdk/client-cognito-identity-provider
 * (nothing at run time talks to Cognito; API Gateway and the fanout only verify tokens).
 */
import { createHash, createHmac } from 'node:crypto';

const SERVICE = 'cognito-idp';

export class CognitoIdpError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
    this.name = 'CognitoIdpError';
  }
}

export class CognitoIdpClient {
  constructor(
    private readonly endpoint: string,
    private readonly region = 'us-east-1',
    private readonly credentials = { accessKeyId: 'local', secretAccessKey: 'local' },
  ) {}

  async call<T = Record<string, unknown>>(operation: string, input: object): Promise<T> {
    const url = new URL(this.endpoint);
    const body = JSON.stringify(input);
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.1',
      host: url.host,
      'x-amz-date': amzDate,
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    };
    headers.authorization = this.authorization(headers, body, amzDate);
    delete headers.host; // fetch sets it, to the same value
    const res = await fetch(`${this.endpoint}/`, { method: 'POST', headers, body });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) {
      const type = String(parsed.__type ?? res.status)
        .split('#')
        .pop()!;
      throw new CognitoIdpError(type, String(parsed.message ?? parsed.Message ?? text));
    }
    return parsed as T;
  }

  /** AWS Signature Version 4 for a POST to `/` with no query string. */
  private authorization(headers: Record<string, string>, body: string, amzDate: string): string {
    const names = Object.keys(headers).sort();
    const canonicalRequest = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n].trim()}`), '', names.join(';'), sha256Hex(body)].join('\n');
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${this.region}/${SERVICE}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    let key: Buffer = hmac(`AWS4${this.credentials.secretAccessKey}`, day);
    for (const part of [this.region, SERVICE, 'aws4_request']) key = hmac(key, part);
    const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
    return `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  }
}

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
