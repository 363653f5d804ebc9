/**
 * The YAML file's shape (shared/CONFIG.md): ZIP-014's `kms:` block plus the service's own sections.
 * Every object refuses unknown keys, so a typo stops start-up with its path named.
 */
import Type, { type Static } from 'typebox';

const strict = { additionalProperties: false } as const;
const Duration = Type.Union([
  Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$' }),
  Type.Integer({ minimum: 0 }),
]);
const Size = Type.Union([
  Type.String({ pattern: '^[0-9]+(B|KiB|MiB|GiB)?$' }),
  Type.Integer({ minimum: 0 }),
]);
const Rate = Type.Union([
  Type.String({ pattern: '^[0-9]+(/s|/m|/h)?$' }),
  Type.Integer({ minimum: 0 }),
]);
const ChainId = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: '^[0-9]{1,20}$' }),
]);
const Path = Type.String({ minLength: 1 });

const Pkcs11Fields = {
  library: Type.Optional(Path),
  token_label: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  slot: Type.Optional(Type.Integer({ minimum: 0 })),
  pin_file: Type.Optional(Path),
  root_key_label: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
};
const Pkcs11Block = Type.Object(Pkcs11Fields, strict);
const CloudHsmBlock = Type.Object(
  {
    ...Pkcs11Fields,
    cluster_id: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
    endpoint: Type.Optional(Type.String()),
  },
  strict,
);
const GcpBlock = Type.Object(
  {
    project_id: Type.String({ minLength: 1 }),
    location: Type.String({ minLength: 1 }),
    key_ring: Type.String({ minLength: 1 }),
    root_key: Type.String({ minLength: 1 }),
    credentials: Type.Optional(Path),
    endpoint: Type.Optional(Type.String()),
  },
  strict,
);
const SoftwareBlock = Type.Object(
  { key_file: Type.Optional(Path), allow_in_production: Type.Optional(Type.Boolean()) },
  strict,
);

export const PKCS11_TYPES = [
  'softhsm2',
  'yubihsm2',
  'nitrokey',
  'zymbit',
  'luna',
  'aws-cloudhsm',
] as const;
export const PROVIDER_TYPES = [...PKCS11_TYPES, 'google-cloud-kms', 'software'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

const NamedProvider = Type.Object(
  {
    type: Type.Union(PROVIDER_TYPES.map((t) => Type.Literal(t))),
    ...Pkcs11Fields,
    cluster_id: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
    endpoint: Type.Optional(Type.String()),
    project_id: Type.Optional(Type.String()),
    location: Type.Optional(Type.String()),
    key_ring: Type.Optional(Type.String()),
    root_key: Type.Optional(Type.String()),
    credentials: Type.Optional(Path),
    key_file: Type.Optional(Path),
    allow_in_production: Type.Optional(Type.Boolean()),
  },
  strict,
);

const Kms = Type.Object(
  {
    provider: Type.Optional(Type.String({ minLength: 1 })),
    providers: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), NamedProvider),
    ),
    softhsm2: Type.Optional(Pkcs11Block),
    yubihsm2: Type.Optional(Pkcs11Block),
    nitrokey: Type.Optional(Pkcs11Block),
    zymbit: Type.Optional(Pkcs11Block),
    luna: Type.Optional(Pkcs11Block),
    'aws-cloudhsm': Type.Optional(CloudHsmBlock),
    'google-cloud-kms': Type.Optional(GcpBlock),
    software: Type.Optional(SoftwareBlock),
    failover: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          backup_provider: Type.Optional(Type.String({ minLength: 1 })),
          providers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
          health_check_interval: Type.Optional(Duration),
        },
        strict,
      ),
    ),
  },
  strict,
);

const Server = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    body_limit: Type.Optional(Size),
    log_level: Type.Optional(
      Type.Union(['trace', 'debug', 'info', 'warn', 'error'].map((l) => Type.Literal(l))),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          cert_file: Path,
          key_file: Path,
          client_ca_file: Type.Optional(Path),
          require_client_cert: Type.Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
  },
  strict,
);

const Chain = Type.Object(
  {
    id: ChainId,
    name: Type.String({ pattern: '^[a-z0-9-]{1,32}$' }),
    signature_tag: Type.Optional(Type.String({ minLength: 1 })),
    pop_tag: Type.Optional(Type.String({ minLength: 1 })),
  },
  strict,
);

export const ConfigFileSchema = Type.Object(
  {
    kms: Type.Optional(Kms),
    server: Type.Optional(Server),
    store: Type.Optional(Type.Object({ url: Type.Optional(Type.String()) }, strict)),
    chains: Type.Optional(Type.Array(Chain, { minItems: 1 })),
    validator: Type.Optional(
      Type.Object(
        { rate_limit: Type.Optional(Type.Object({ per_key: Type.Optional(Rate) }, strict)) },
        strict,
      ),
    ),
    bridge: Type.Optional(
      Type.Object(
        {
          chain_id: Type.Optional(ChainId),
          allowed_targets: Type.Optional(Type.Array(ChainId)),
          max_age: Type.Optional(Duration),
          max_skew: Type.Optional(Duration),
          max_payload: Type.Optional(Size),
        },
        strict,
      ),
    ),
    experience_library: Type.Optional(
      Type.Object(
        {
          encryption_enabled: Type.Optional(Type.Boolean()),
          key_rotation_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          per_user_keys: Type.Optional(Type.Boolean()),
          max_plaintext: Type.Optional(Size),
        },
        strict,
      ),
    ),
    replicate: Type.Optional(
      Type.Object(
        {
          ecosystems: Type.Optional(
            Type.Array(Type.Union(['hanzo', 'lux', 'zoo'].map((e) => Type.Literal(e)))),
          ),
          retention: Type.Optional(
            Type.Object(
              {
                sqlite_snapshots: Type.Optional(Duration),
                zapdb_snapshots: Type.Optional(Duration),
              },
              strict,
            ),
          ),
        },
        strict,
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          token_ttl: Type.Optional(Duration),
          rate_limit: Type.Optional(Type.Object({ per_principal: Type.Optional(Rate) }, strict)),
        },
        strict,
      ),
    ),
    audit: Type.Optional(
      Type.Object(
        {
          checkpoint_every: Type.Optional(Type.Integer({ minimum: 1 })),
          checkpoint_interval: Type.Optional(Duration),
        },
        strict,
      ),
    ),
  },
  strict,
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
export type NamedProviderFile = Static<typeof NamedProvider>;
