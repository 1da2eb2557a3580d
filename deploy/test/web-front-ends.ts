/**
 * The web front ends among the Deployments, by `app.kubernetes.io/name`: servers that serve pages
 * and forward to the services' HTTP APIs, and consume no Kafka topic (docs/pay-hub.md). The
 * services' rules that assume a Kafka consumer (a partition ceiling for the HPA, a Kafka
 * principal) do not apply to them; front-end-rules.ts holds them to their own instead.
 */
export interface WebFrontEnd {
  /**
   * Keeps its sessions in PostgreSQL: then it takes DATABASE_URL from a Secret and has a
   * migration Job like a service; otherwise it gets no database at all.
   */
  sessionsInDatabase: boolean;
}

export const WEB_FRONT_ENDS: Readonly<Record<string, WebFrontEnd>> = {
  'pay-hub': { sessionsInDatabase: true },
};
