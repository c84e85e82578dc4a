import { UnknownTagError } from '../../core/errors';
import { parseKey } from '../../core/key';
import { TagRegistry } from '../../core/tag-registry';

describe('TagRegistry', () => {
  it('loads the shipped registry with both backends', () => {
    const registry = TagRegistry.default();
    expect(registry.resolve(parseKey('tenantconfig:plan')).backend).toBe('dynamodb');
    expect(registry.resolve(parseKey('paramconfig:db/pool')).backend).toBe('ssm');
    expect(registry.tagsFor('ssm').map((t) => t.name)).toEqual(expect.arrayContaining(['paramconfig']));
  });

  it('names the registered tags when a tag is unknown', () => {
    expect(() => TagRegistry.default().resolve(parseKey('nope:x'))).toThrow(UnknownTagError);
    expect(() => TagRegistry.default().resolve('nope')).toThrow(/registered tags are tenantconfig, paramconfig/);
  });

  it.each([
    [{ tags: {} }, /no tags defined/],
    [{ tags: { Bad: { backend: 'dynamodb', maxValueBytes: 1, secret: false } } }, /tag name 'Bad'/],
    [{ tags: { a: { backend: 's3', maxValueBytes: 1, secret: false } } }, /tag 'a' has unknown backend 's3'/],
    [{ tags: { a: { backend: 'ssm', maxValueBytes: 0, secret: false } } }, /tag 'a' needs a positive integer maxValueBytes/],
    [{ tags: { a: { backend: 'ssm', maxValueBytes: 1, secret: false, schema: { type: 'nonsense' } } } }, /tag 'a' has an invalid JSON schema/],
  ])('fails fast on a bad registry %#', (data, message) => {
    expect(() => new TagRegistry(data as never)).toThrow(message);
  });

  it('a new tag is configuration: it resolves with no code change', () => {
    const registry = new TagRegistry({
      tags: {
        ...TagRegistry.default()
          .all()
          .reduce((acc, t) => ({ ...acc, [t.name]: t }), {}),
        limits: { backend: 'dynamodb', maxValueBytes: 100, secret: false },
      },
    });
    expect(registry.resolve(parseKey('limits:api/rps')).backend).toBe('dynamodb');
  });
});
