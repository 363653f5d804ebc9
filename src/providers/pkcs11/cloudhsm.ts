/**
 * AWS CloudHSM (ARCHITECTURE.md "Providers and failover"): the crypto is the generic PKCS#11
 * provider with the `aws-cloudhsm` settings (vendors.ts) over the CloudHSM PKCS#11 library; the
 * cluster is found and watched through the CloudHSM v2 API (DescribeClusters, AWS JSON 1.1).
 *
 * - open(): the cluster must exist and be serving (state ACTIVE, or an update or modification in
 *   progress, with at least one HSM ACTIVE); otherwise start-up says which state it is in. Without
 *   `clusterId` the region must hold exactly one cluster, which is then the one used (discovery).
 * - health(): the cluster and HSM states first, then the PKCS#11 canary. A cluster that stops
 *   serving (DEGRADED, being deleted, no ACTIVE HSM) fails the check with its state, so /readyz
 *   shows it and the provider set fails over. When the CloudHSM API itself cannot be reached, the
 *   data plane decides: the canary alone (the API's outage is not the HSMs'), and the API's error
 *   is kept in `lastApiError`.
 * Credentials are the AWS SDK's default chain (environment, instance role ...), or given.
 */
import {
  CloudHSMV2Client,
  DescribeClustersCommand,
  type Cluster,
  type DescribeClustersCommandOutput,
} from '@aws-sdk/client-cloudhsm-v2';
import {
  ProviderUnavailableError,
  type Algorithm,
  type Capabilities,
  type KeyProvider,
  type SecretRef,
} from '../provider.js';
import { notOpen } from '../not-open.js';
import { Pkcs11Provider, type Pkcs11ProviderOptions } from './provider.js';

export interface CloudHsmProviderOptions extends Omit<Pkcs11ProviderOptions, 'vendor'> {
  /** The cluster (`cluster-...`); when absent, the only cluster of the region. */
  readonly clusterId?: string;
  /** Default: the AWS SDK's (AWS_REGION, the shared config file). */
  readonly region?: string;
  /** The CloudHSM v2 API endpoint instead of the region's (a VPC endpoint, or a test server). */
  readonly endpoint?: string;
  /** Static credentials; default the AWS SDK's default provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Deadline of one DescribeClusters call; default 5 s. */
  readonly timeoutMs?: number;
}

export interface ClusterView {
  readonly id: string;
  readonly state: string;
  readonly hsms: readonly { id: string; zone: string; ip: string; state: string }[];
}

/** Cluster states in which the HSMs serve requests (an update or modification keeps them up). */
const SERVING = new Set(['ACTIVE', 'UPDATE_IN_PROGRESS', 'MODIFY_IN_PROGRESS']);

export class CloudHsmProvider implements KeyProvider {
  readonly kind = 'pkcs11';
  readonly name: string;
  readonly hsm: Pkcs11Provider;
  private readonly client: CloudHSMV2Client;
  private view: ClusterView | undefined;
  private opened = false;
  private openError: Error | undefined;
  private apiError: string | undefined;

  constructor(private readonly opts: CloudHsmProviderOptions) {
    this.name = opts.name;
    this.hsm = new Pkcs11Provider({ ...opts, vendor: 'aws-cloudhsm' });
    this.client = new CloudHSMV2Client({
      ...(opts.region ? { region: opts.region } : {}),
      maxAttempts: 2,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: { ...opts.credentials } } : {}),
    });
  }

  get capabilities(): Capabilities {
    return this.hsm.capabilities;
  }

  /** The cluster as last described: its id, state and HSMs (zone, ENI address, state). */
  get cluster(): ClusterView | undefined {
    return this.view;
  }

  /** Why the last DescribeClusters failed, while the API cannot be reached. */
  get lastApiError(): string | undefined {
    return this.apiError;
  }

  async open(): Promise<void> {
    try {
      await this.openCluster();
      await this.hsm.open();
      this.opened = true;
      this.openError = undefined;
    } catch (e) {
      this.openError = e as Error;
      throw e;
    }
  }

  private async openCluster(): Promise<void> {
    let cluster: ClusterView;
    try {
      cluster = await this.describe();
    } catch (e) {
      throw new Error(`aws-cloudhsm provider ${this.name}: ${(e as Error).message}`, { cause: e });
    }
    const problem = notServing(cluster);
    if (problem) throw new Error(`aws-cloudhsm provider ${this.name}: ${problem}`);
  }

  async health(): Promise<void> {
    if (!this.opened) throw notOpen(this.name, this.openError);
    let cluster: ClusterView | undefined;
    try {
      cluster = await this.describe();
    } catch (e) {
      if (e instanceof ClusterGone) throw new ProviderUnavailableError(this.name, e.message);
    }
    const problem = cluster && notServing(cluster);
    if (problem) throw new ProviderUnavailableError(this.name, problem);
    await this.hsm.health();
  }

  wrap(algorithm: Algorithm, secret: Uint8Array): Promise<Uint8Array> {
    return this.hsm.wrap(algorithm, secret);
  }

  unwrap(algorithm: Algorithm, wrapped: Uint8Array): Promise<Uint8Array> {
    return this.hsm.unwrap(algorithm, wrapped);
  }

  hmacSha256(ref: SecretRef, data: Uint8Array): Promise<Uint8Array> {
    return this.hsm.hmacSha256(ref, data);
  }

  aesGcmEncrypt(ref: SecretRef, iv: Uint8Array, pt: Uint8Array, aad: Uint8Array) {
    return this.hsm.aesGcmEncrypt(ref, iv, pt, aad);
  }

  aesGcmDecrypt(ref: SecretRef, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array) {
    return this.hsm.aesGcmDecrypt(ref, iv, sealed, aad);
  }

  sign(ref: SecretRef, input: Uint8Array): Promise<Uint8Array> {
    return this.hsm.sign(ref, input);
  }

  forget(idPrefix: string): void {
    this.hsm.forget(idPrefix);
  }

  async close(): Promise<void> {
    await this.hsm.close();
  }

  /** DescribeClusters for our cluster (or the region's only one); keeps the answer. */
  private async describe(): Promise<ClusterView> {
    const id = this.opts.clusterId;
    let out: DescribeClustersCommandOutput;
    try {
      out = await this.client.send(
        new DescribeClustersCommand(id ? { Filters: { clusterIds: [id] } } : {}),
        { abortSignal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000) },
      );
    } catch (e) {
      this.apiError = `DescribeClusters failed: ${apiErrorOf(e)}`;
      throw new Error(this.apiError, { cause: e });
    }
    this.apiError = undefined;
    this.view = viewOf(this.pick(out.Clusters ?? []));
    return this.view;
  }

  private pick(clusters: Cluster[]): Cluster {
    const id = this.opts.clusterId;
    const region = this.opts.region ?? 'the region';
    if (id) {
      const found = clusters.find((c) => c.ClusterId === id);
      if (!found) throw new ClusterGone(`cluster ${id} does not exist in ${region}`);
      return found;
    }
    if (clusters.length !== 1) {
      const ids = clusters.map((c) => c.ClusterId).join(', ') || 'none';
      throw new ClusterGone(`set cluster_id: ${region} holds ${clusters.length} clusters (${ids})`);
    }
    return clusters[0]!;
  }
}

/** The cluster is not there (or not identifiable): no canary can make that healthy. */
class ClusterGone extends Error {}

function viewOf(c: Cluster): ClusterView {
  return {
    id: c.ClusterId ?? 'unknown',
    state: c.State ?? 'unknown',
    hsms: (c.Hsms ?? []).map((h) => ({
      id: h.HsmId ?? 'unknown',
      zone: h.AvailabilityZone ?? 'unknown',
      ip: h.EniIp ?? 'unknown',
      state: h.State ?? 'unknown',
    })),
  };
}

/** Why the cluster cannot serve, or undefined when it can. */
function notServing(c: ClusterView): string | undefined {
  const active = c.hsms.filter((h) => h.state === 'ACTIVE').length;
  if (SERVING.has(c.state) && active > 0) return undefined;
  const hsms = c.hsms.map((h) => `${h.id} ${h.state}`).join(', ') || 'no HSMs';
  return `cluster ${c.id} is ${c.state} with ${active} ACTIVE HSM(s) (${hsms})`;
}

function apiErrorOf(e: unknown): string {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return `${err.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? String(e)}`;
}
