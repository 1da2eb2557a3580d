/** Injection tokens of what the platform module provides to every service. */
export const KAFKA = Symbol('Kafka');
export const KAFKA_ADMIN = Symbol('KafkaAdmin');
export const EVENT_PUBLISHER = Symbol('EventPublisher');
export const LOGGER = Symbol('Logger');
export const SERVICE_CONFIG = Symbol('ServiceConfig');
export const TELEMETRY = Symbol('Telemetry');
/** Whether the process is this one service (true under runService). */
export const OWNS_PROCESS = Symbol('OwnsProcess');
/** The process's one LISTEN connection (PgNotifications): every feature that waits for a NOTIFY subscribes on it. */
export const PG_NOTIFICATIONS = Symbol('PgNotifications');
/** The instance's claim on its consumer groups' member ids (InstanceMemberships), or null: released once the consumers stopped. */
export const INSTANCE_MEMBERSHIPS = Symbol('InstanceMemberships');
