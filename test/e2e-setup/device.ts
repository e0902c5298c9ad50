/** The lab device the e2e global set-up starts, as the specs get it (JSON in PW_E2E_DEVICE). */
export interface E2eDevice {
  name: string;
  host: string;
  port: number;
  fingerprint: string;
  clientKey: string;
  initPid: number;
  dir: string;
  peers: { port: string; netns: string; address: string; subnet: string; deviceAddress?: string }[];
}
