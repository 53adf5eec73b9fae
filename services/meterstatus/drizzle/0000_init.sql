CREATE SCHEMA "meterstatus";
--> statement-breakpoint
CREATE TABLE "meterstatus"."consumer_offsets" (
	"name" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meterstatus"."model" (
	"model_uuid" text PRIMARY KEY NOT NULL,
	"code" text DEFAULT 'NOT SET' NOT NULL,
	"info" text DEFAULT '' NOT NULL,
	"last_successful_send" timestamp (3) with time zone,
	"consecutive_errors" integer DEFAULT 0 NOT NULL,
	"grace_period_ms" bigint DEFAULT 604800000 NOT NULL,
	CONSTRAINT "model_code_check" CHECK ("meterstatus"."model"."code" in ('NOT SET', 'GREEN', 'AMBER', 'RED')),
	CONSTRAINT "model_grace_period_check" CHECK ("meterstatus"."model"."grace_period_ms" >= 0)
);
--> statement-breakpoint
CREATE TABLE "meterstatus"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"msg_id" text NOT NULL,
	"payload" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_msg_id_unique" UNIQUE("msg_id")
);
--> statement-breakpoint
CREATE TABLE "meterstatus"."unit" (
	"model_uuid" text NOT NULL,
	"name" text NOT NULL,
	"application" text NOT NULL,
	"life" text DEFAULT 'alive' NOT NULL,
	"code" text DEFAULT 'NOT SET' NOT NULL,
	"info" text DEFAULT '' NOT NULL,
	"worker_state" text DEFAULT '' NOT NULL,
	CONSTRAINT "unit_model_uuid_name_pk" PRIMARY KEY("model_uuid","name"),
	CONSTRAINT "unit_life_check" CHECK ("meterstatus"."unit"."life" in ('alive', 'dying', 'dead')),
	CONSTRAINT "unit_code_check" CHECK ("meterstatus"."unit"."code" in ('NOT SET', 'GREEN', 'AMBER', 'RED'))
);
