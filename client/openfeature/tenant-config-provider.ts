/**
 * An OpenFeature server provider over the SDK (`@tenant-config/client/openfeature`): flags are
 * evaluated in process from the client's live copy, by the same evaluator as the API, so a flag
 * costs no request. Status follows the client's first state (the SDK answers PROVIDER_NOT_READY
 * until `initialize` resolves), and a change of a `flags:` key emits ConfigurationChanged with the
 * flag in `flagsChanged` (and a change of the tenant's registry attributes, which rules on
 * `tenant.<name>` read, emits it without `flagsChanged`: any flag may answer otherwise). Works on a multi-tenant client (the tenant comes from the evaluation
 * context's `tenantId`) or on one tenant's view.
 *
 * It reaches the client by its shape, never `instanceof`: this entry is bundled apart from the
 * package's main one, so the classes are not the same objects.
 */
import {
  FlagNotFoundError,
  GeneralError,
  InvalidContextError,
  OpenFeatureEventEmitter,
  ParseError,
  ProviderEvents,
  ProviderNotReadyError,
  TargetingKeyMissingError,
  TypeMismatchError,
  type EvaluationContext,
  type JsonValue,
  type OpenFeatureError,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { FlagDetails, FlagEvaluationContext, FlagValueType } from '../flag-read';
import type { ChangeListener } from '../types';

/** What the provider needs of one tenant's view (client/tenant-view.ts TenantView). */
export interface FlagView {
  readonly tenantId: string;
  flagDetails<T>(name: string, fallback: T, context?: FlagEvaluationContext, expectedType?: FlagValueType): FlagDetails<T>;
  onChange(listener: ChangeListener, filter?: { prefix?: string }): () => void;
  /** The tenant's registry attributes changed: rules on `tenant.<name>` may answer otherwise (absent on an older view). */
  onAttributesChange?(listener: () => void): () => void;
  ready(): Promise<unknown>;
}

/** What the provider needs of a multi-tenant client (client/config-client.ts ConfigClient). */
export interface FlagViews {
  forTenant(tenantId: string): FlagView;
  start(): Promise<void>;
}

export interface TenantConfigProviderOptions {
  /** The context attribute that names the tenant, on a multi-tenant client. @default 'tenantId' */
  readonly tenantAttribute?: string;
}

const ERRORS: Readonly<Record<string, new (message?: string) => OpenFeatureError>> = {
  FLAG_NOT_FOUND: FlagNotFoundError,
  PARSE_ERROR: ParseError,
  TYPE_MISMATCH: TypeMismatchError,
  TARGETING_KEY_MISSING: TargetingKeyMissingError,
  INVALID_CONTEXT: InvalidContextError,
  PROVIDER_NOT_READY: ProviderNotReadyError,
  GENERAL: GeneralError,
};

const isView = (source: FlagView | FlagViews): source is FlagView => typeof (source as FlagView).flagDetails === 'function';

export class TenantConfigProvider implements Provider {
  readonly metadata = { name: 'tenant-config' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private readonly tenantAttribute: string;
  private readonly watched = new Map<string, () => void>();
  /** One view per tenant evaluated: a view is a thin handle, but building one checks the id. */
  private readonly views = new Map<string, FlagView>();

  constructor(
    private readonly source: FlagView | FlagViews,
    options: TenantConfigProviderOptions = {},
  ) {
    this.tenantAttribute = options.tenantAttribute ?? 'tenantId';
  }

  /** Ready once the client holds a state (or the view its tenant's): until then OpenFeature answers PROVIDER_NOT_READY. */
  async initialize(): Promise<void> {
    if (isView(this.source)) {
      await this.source.ready();
      this.watch(this.source);
    } else {
      await this.source.start();
    }
  }

  async onClose(): Promise<void> {
    for (const unsubscribe of this.watched.values()) unsubscribe();
    this.watched.clear();
    this.views.clear();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'boolean'));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'string'));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'number'));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, 'object'));
  }

  /** Synchronous underneath: the value is in memory. Errors are thrown as OpenFeature's, which the SDK turns into the default with the code. */
  private resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: FlagValueType): ResolutionDetails<T> {
    const view = this.viewFor(context);
    const { [this.tenantAttribute]: _tenant, ...attributes } = context;
    const details = view.flagDetails(flagKey, defaultValue, attributes as FlagEvaluationContext, type);
    if (details.errorCode) throw new ERRORS[details.errorCode](details.errorMessage);
    return { value: details.value, reason: details.reason, ...(details.variant !== undefined ? { variant: details.variant } : {}) };
  }

  private viewFor(context: EvaluationContext): FlagView {
    if (isView(this.source)) return this.source;
    const tenant = context[this.tenantAttribute];
    if (typeof tenant !== 'string' || tenant === '') {
      throw new InvalidContextError(`the evaluation context names no tenant: set '${this.tenantAttribute}' to the tenant's id`);
    }
    const known = this.views.get(tenant);
    if (known) return known;
    let view: FlagView;
    try {
      view = this.source.forTenant(tenant);
    } catch (e) {
      throw new InvalidContextError(`'${this.tenantAttribute}' is not a tenant id: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.views.set(tenant, view);
    this.watch(view);
    return view;
  }

  /** Flag changes of a tenant become ConfigurationChanged, once the tenant has been evaluated (or is the provider's own). */
  private watch(view: FlagView): void {
    if (this.watched.has(view.tenantId)) return;
    const unsubscribe = view.onChange(
      (change) => {
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [change.key.slice('flags:'.length)], metadata: { tenantId: view.tenantId } });
      },
      { prefix: 'flags:' },
    );
    const unsubscribeAttributes = view.onAttributesChange?.(() => {
      this.events.emit(ProviderEvents.ConfigurationChanged, { metadata: { tenantId: view.tenantId, attributesChanged: true } });
    });
    this.watched.set(view.tenantId, () => {
      unsubscribe();
      unsubscribeAttributes?.();
    });
  }
}
