// Jest set-up of the integration tier: test clients (testKafka) get the timer fix the services get from createKafka.
import { installRequestQueueTimerFix } from './kafkajs-request-queue';

installRequestQueueTimerFix();
