import fc from 'fast-check';
import { compilePattern, InvalidEventPatternError, matchesPattern } from '../../local/events/pattern-matcher';

/** Examples follow the EventBridge user guide's content-filtering pages. */
describe('event pattern matcher', () => {
  const event = {
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    time: '2017-10-02T18:43:48Z',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:autoscaling:us-east-1:123456789012:group'],
    detail: {
      state: 'running',
      'c-count': 5,
      'd-count': 3,
      'x-limit': 301.8,
      flag: false,
      nothing: null,
      sourceIPAddress: '10.0.0.123',
      tags: [
        { key: 'team', value: 'red' },
        { key: 'env', value: 'prod' },
      ],
      nested: { deeper: { name: 'FileName.PNG' } },
    },
  };

  it('matches exact values, all fields (AND) and any listed value (OR)', () => {
    expect(matchesPattern({ source: ['aws.ec2'], detail: { state: ['pending', 'running'] } }, event)).toBe(true);
    expect(matchesPattern({ source: ['aws.ec2'], detail: { state: ['pending'] } }, event)).toBe(false);
    expect(matchesPattern({ source: ['aws.s3'], detail: { state: ['running'] } }, event)).toBe(false);
  });

  it('compares types strictly: the number 5 is not the string "5", false and null are values', () => {
    expect(matchesPattern({ detail: { 'c-count': [5] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'c-count': ['5'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { flag: [false] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { nothing: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { flag: [null] } }, event)).toBe(false);
  });

  it('matches an array in the event when any element matches', () => {
    expect(matchesPattern({ resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, event)).toBe(true);
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:autoscaling:' }] }, event)).toBe(true);
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:s3:' }] }, event)).toBe(false);
  });

  it('reaches through arrays of objects with nested patterns', () => {
    expect(matchesPattern({ detail: { tags: { key: ['env'], value: ['prod'] } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { tags: { key: ['owner'] } } }, event)).toBe(false);
  });

  it('supports prefix and suffix, also ignoring case', () => {
    expect(matchesPattern({ time: [{ prefix: '2017-10-02' }] }, event)).toBe(true);
    expect(matchesPattern({ time: [{ prefix: '2017-10-03' }] }, event)).toBe(false);
    expect(matchesPattern({ detail: { nested: { deeper: { name: [{ suffix: '.PNG' }] } } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { nested: { deeper: { name: [{ suffix: '.png' }] } } } }, event)).toBe(false);
    expect(matchesPattern({ detail: { nested: { deeper: { name: [{ suffix: { 'equals-ignore-case': '.png' } }] } } } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'equals-ignore-case': 'RUNNING' }] } }, event)).toBe(true);
  });

  it('does not apply string operators to numbers', () => {
    expect(matchesPattern({ detail: { 'c-count': [{ prefix: '5' }] } }, event)).toBe(false);
  });

  it('supports anything-but with a value, a list, a prefix and a suffix', () => {
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'running' }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': { suffix: 'ing' } }] } }, event)).toBe(false);
  });

  it('never matches a missing field, except with exists: false', () => {
    expect(matchesPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ exists: false }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ exists: true }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { nothing: [{ exists: true }] } }, event)).toBe(true);
  });

  it('treats exists as a leaf test: an object at the path does not exist as a leaf (EventBridge guide example)', () => {
    const withObject = { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } };
    expect(matchesPattern({ detail: { 'c-count': [{ exists: false }] } }, withObject)).toBe(true);
  });

  it('supports numeric ranges and equality', () => {
    expect(
      matchesPattern(
        { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
        event,
      ),
    ).toBe(true);
    expect(matchesPattern({ detail: { 'c-count': [{ numeric: ['>', 5] }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: [{ numeric: ['>', 0] }] } }, event)).toBe(false);
  });

  it('supports IPv4 cidr and wildcards', () => {
    expect(matchesPattern({ detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { sourceIPAddress: [{ cidr: '10.0.1.0/24' }] } }, event)).toBe(false);
    expect(matchesPattern({ resources: [{ wildcard: 'arn:aws:ec2:*:instance/*' }] }, event)).toBe(true);
    expect(matchesPattern({ resources: [{ wildcard: 'arn:aws:s3:*' }] }, event)).toBe(false);
  });

  it('supports $or between alternative sub-patterns', () => {
    const pattern = { source: ['aws.ec2'], $or: [{ detail: { state: ['stopped'] } }, { detail: { 'c-count': [{ numeric: ['>', 4] }] } }] };
    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern({ ...pattern, $or: [{ detail: { state: ['stopped'] } }, { time: [{ prefix: '2020' }] }] }, event)).toBe(false);
  });

  it('does not match events that are not objects', () => {
    const matcher = compilePattern({ source: ['aws.ec2'] });
    for (const bad of [null, undefined, 'aws.ec2', 42, ['aws.ec2']]) expect(matcher(bad)).toBe(false);
  });

  it('refuses malformed patterns when compiled, as PutRule does', () => {
    const bad: unknown[] = [
      {},
      [],
      { source: 'aws.ec2' },
      { source: [] },
      { detail: {} },
      { source: [{ prefix: 1 }] },
      { source: [{ unknown: 'x' }] },
      { source: [{ prefix: 'a', suffix: 'b' }] },
      { detail: { n: [{ numeric: ['>'] }] } },
      { detail: { n: [{ numeric: ['!', 1] }] } },
      { detail: { ip: [{ cidr: '10.0.0.0/33' }] } },
      { source: [{ 'anything-but': ['a', 1] }] },
      { source: [{ exists: 'yes' }] },
      { $or: [{ source: ['a'] }] },
      { source: [{ wildcard: 'a**b' }] },
    ];
    for (const pattern of bad) expect(() => compilePattern(pattern)).toThrow(InvalidEventPatternError);
  });

  it('prefix and anything-but prefix split every string exactly in two (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ maxLength: 4 }), (value, prefix) => {
        const e = { detail: { v: value } };
        const yes = matchesPattern({ detail: { v: [{ prefix }] } }, e);
        const no = matchesPattern({ detail: { v: [{ 'anything-but': { prefix } }] } }, e);
        return yes !== no && yes === value.startsWith(prefix);
      }),
    );
  });

  it('a wildcard without stars is an exact match, whatever the characters (property)', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('*') && !s.includes('\\')),
        fc.string(),
        (literal, other) => {
          const matcher = compilePattern({ v: [{ wildcard: literal }] });
          return matcher({ v: literal }) && matcher({ v: other }) === (other === literal);
        },
      ),
    );
  });
});
