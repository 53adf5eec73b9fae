CREATE SCHEMA "leadership";
--> statement-breakpoint
CREATE TABLE "leadership"."consumer_offsets" (
	"name" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leadership"."leader_settings" (
	"model_uuid" text NOT NULL,
	"application" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "leader_settings_pkey" PRIMARY KEY("model_uuid","application")
);
--> statement-breakpoint
CREATE TABLE "leadership"."lease" (
	"namespace" text NOT NULL,
	"model_uuid" text NOT NULL,
	"name" text NOT NULL,
	"holder" text NOT NULL,
	"start_at" timestamp (6) with time zone NOT NULL,
	"expiry_at" timestamp (6) with time zone NOT NULL,
	"term" bigint NOT NULL,
	CONSTRAINT "lease_pkey" PRIMARY KEY("namespace","model_uuid","name")
);
--> statement-breakpoint
CREATE TABLE "leadership"."lease_pin" (
	"namespace" text NOT NULL,
	"model_uuid" text NOT NULL,
	"name" text NOT NULL,
	"entity" text NOT NULL,
	CONSTRAINT "lease_pin_pkey" PRIMARY KEY("namespace","model_uuid","name","entity")
);
--> statement-breakpoint
CREATE TABLE "leadership"."lease_term" (
	"namespace" text NOT NULL,
	"model_uuid" text NOT NULL,
	"name" text NOT NULL,
	"term" bigint NOT NULL,
	CONSTRAINT "lease_term_pkey" PRIMARY KEY("namespace","model_uuid","name")
);
--> statement-breakpoint
CREATE TABLE "leadership"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"msg_id" text NOT NULL,
	"payload" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_msg_id_unique" UNIQUE("msg_id")
);
--> statement-breakpoint
CREATE INDEX "lease_expiry_at_idx" ON "leadership"."lease" USING btree ("expiry_at");