/** The lab's admin token, as the credentials Secrets carry it (the environment and tenant isolation both use it). */
export interface LabCredentials {
  readonly url: string;
  readonly tokenId: string;
  readonly secret: string;
  readonly caPem: string;
  readonly fingerprint: string;
}
