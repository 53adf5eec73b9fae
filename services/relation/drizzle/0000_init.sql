CREATE SCHEMA "relation";
--> statement-breakpoint
CREATE TABLE "relation"."application" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"model_uuid" uuid NOT NULL,
	"name" text NOT NULL,
	"life" text DEFAULT 'alive' NOT NULL,
	"subordinate" boolean DEFAULT false NOT NULL,
	"remote" boolean DEFAULT false NOT NULL,
	"base" text,
	"next_unit_number" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "application_model_name_key" UNIQUE("model_uuid","name")
);
--> statement-breakpoint
CREATE TABLE "relation"."application_endpoint" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"application_uuid" uuid NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"interface" text NOT NULL,
	"scope" text NOT NULL,
	"capacity" integer DEFAULT 0 NOT NULL,
	"optional" boolean DEFAULT false NOT NULL,
	CONSTRAINT "application_endpoint_application_name_key" UNIQUE("application_uuid","name")
);
--> statement-breakpoint
CREATE TABLE "relation"."consumer_offsets" (
	"name" text PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relation"."leader" (
	"model_uuid" uuid NOT NULL,
	"application" text NOT NULL,
	"holder" text NOT NULL,
	"term" bigint NOT NULL,
	CONSTRAINT "leader_model_uuid_application_pk" PRIMARY KEY("model_uuid","application")
);
--> statement-breakpoint
CREATE TABLE "relation"."model" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"life" text DEFAULT 'alive' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "relation"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"msg_id" text NOT NULL,
	"payload" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_msg_id_unique" UNIQUE("msg_id")
);
--> statement-breakpoint
CREATE TABLE "relation"."relation" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"model_uuid" uuid NOT NULL,
	"relation_id" integer NOT NULL,
	"life" text DEFAULT 'alive' NOT NULL,
	"suspended" boolean DEFAULT false NOT NULL,
	"suspended_reason" text DEFAULT '' NOT NULL,
	"scope" text NOT NULL,
	CONSTRAINT "relation_model_relation_id_key" UNIQUE("model_uuid","relation_id")
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_application_setting" (
	"relation_endpoint_uuid" uuid NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "relation_application_setting_relation_endpoint_uuid_key_pk" PRIMARY KEY("relation_endpoint_uuid","key"),
	CONSTRAINT "relation_application_setting_key_not_empty" CHECK ("relation"."relation_application_setting"."key" <> '')
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_application_settings_hash" (
	"relation_endpoint_uuid" uuid PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_endpoint" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"relation_uuid" uuid NOT NULL,
	"endpoint_uuid" uuid NOT NULL,
	CONSTRAINT "relation_endpoint_relation_endpoint_key" UNIQUE("relation_uuid","endpoint_uuid")
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_network_egress" (
	"relation_uuid" uuid NOT NULL,
	"cidr" text NOT NULL,
	CONSTRAINT "relation_network_egress_relation_uuid_cidr_pk" PRIMARY KEY("relation_uuid","cidr")
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_status" (
	"relation_uuid" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_unit" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"relation_endpoint_uuid" uuid NOT NULL,
	"unit_uuid" uuid NOT NULL,
	CONSTRAINT "relation_unit_endpoint_unit_key" UNIQUE("relation_endpoint_uuid","unit_uuid")
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_unit_setting" (
	"relation_unit_uuid" uuid NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "relation_unit_setting_relation_unit_uuid_key_pk" PRIMARY KEY("relation_unit_uuid","key"),
	CONSTRAINT "relation_unit_setting_key_not_empty" CHECK ("relation"."relation_unit_setting"."key" <> '')
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_unit_setting_archive" (
	"relation_uuid" uuid NOT NULL,
	"unit_name" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "relation_unit_setting_archive_relation_uuid_unit_name_key_pk" PRIMARY KEY("relation_uuid","unit_name","key")
);
--> statement-breakpoint
CREATE TABLE "relation"."relation_unit_settings_hash" (
	"relation_unit_uuid" uuid PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relation"."sequence" (
	"model_uuid" uuid NOT NULL,
	"namespace" text NOT NULL,
	"next_value" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "sequence_model_uuid_namespace_pk" PRIMARY KEY("model_uuid","namespace")
);
--> statement-breakpoint
CREATE TABLE "relation"."unit" (
	"uuid" uuid PRIMARY KEY NOT NULL,
	"model_uuid" uuid NOT NULL,
	"application_uuid" uuid NOT NULL,
	"name" text NOT NULL,
	"life" text DEFAULT 'alive' NOT NULL,
	"machine" text,
	"principal_uuid" uuid,
	"agent_status" text DEFAULT 'allocating' NOT NULL,
	"agent_message" text DEFAULT '' NOT NULL,
	"workload_status" text DEFAULT 'waiting' NOT NULL,
	"workload_message" text DEFAULT '' NOT NULL,
	CONSTRAINT "unit_model_name_key" UNIQUE("model_uuid","name"),
	CONSTRAINT "unit_application_principal_key" UNIQUE("application_uuid","principal_uuid")
);
--> statement-breakpoint
ALTER TABLE "relation"."application" ADD CONSTRAINT "application_model_uuid_model_uuid_fk" FOREIGN KEY ("model_uuid") REFERENCES "relation"."model"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."application_endpoint" ADD CONSTRAINT "application_endpoint_application_uuid_application_uuid_fk" FOREIGN KEY ("application_uuid") REFERENCES "relation"."application"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation" ADD CONSTRAINT "relation_model_uuid_model_uuid_fk" FOREIGN KEY ("model_uuid") REFERENCES "relation"."model"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_application_setting" ADD CONSTRAINT "relation_application_setting_relation_endpoint_uuid_relation_endpoint_uuid_fk" FOREIGN KEY ("relation_endpoint_uuid") REFERENCES "relation"."relation_endpoint"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_application_settings_hash" ADD CONSTRAINT "relation_application_settings_hash_relation_endpoint_uuid_relation_endpoint_uuid_fk" FOREIGN KEY ("relation_endpoint_uuid") REFERENCES "relation"."relation_endpoint"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_endpoint" ADD CONSTRAINT "relation_endpoint_relation_uuid_relation_uuid_fk" FOREIGN KEY ("relation_uuid") REFERENCES "relation"."relation"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_endpoint" ADD CONSTRAINT "relation_endpoint_endpoint_uuid_application_endpoint_uuid_fk" FOREIGN KEY ("endpoint_uuid") REFERENCES "relation"."application_endpoint"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_network_egress" ADD CONSTRAINT "relation_network_egress_relation_uuid_relation_uuid_fk" FOREIGN KEY ("relation_uuid") REFERENCES "relation"."relation"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_status" ADD CONSTRAINT "relation_status_relation_uuid_relation_uuid_fk" FOREIGN KEY ("relation_uuid") REFERENCES "relation"."relation"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_unit" ADD CONSTRAINT "relation_unit_relation_endpoint_uuid_relation_endpoint_uuid_fk" FOREIGN KEY ("relation_endpoint_uuid") REFERENCES "relation"."relation_endpoint"("uuid") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_unit" ADD CONSTRAINT "relation_unit_unit_uuid_unit_uuid_fk" FOREIGN KEY ("unit_uuid") REFERENCES "relation"."unit"("uuid") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_unit_setting" ADD CONSTRAINT "relation_unit_setting_relation_unit_uuid_relation_unit_uuid_fk" FOREIGN KEY ("relation_unit_uuid") REFERENCES "relation"."relation_unit"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_unit_setting_archive" ADD CONSTRAINT "relation_unit_setting_archive_relation_uuid_relation_uuid_fk" FOREIGN KEY ("relation_uuid") REFERENCES "relation"."relation"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."relation_unit_settings_hash" ADD CONSTRAINT "relation_unit_settings_hash_relation_unit_uuid_relation_unit_uuid_fk" FOREIGN KEY ("relation_unit_uuid") REFERENCES "relation"."relation_unit"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."sequence" ADD CONSTRAINT "sequence_model_uuid_model_uuid_fk" FOREIGN KEY ("model_uuid") REFERENCES "relation"."model"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."unit" ADD CONSTRAINT "unit_model_uuid_model_uuid_fk" FOREIGN KEY ("model_uuid") REFERENCES "relation"."model"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."unit" ADD CONSTRAINT "unit_application_uuid_application_uuid_fk" FOREIGN KEY ("application_uuid") REFERENCES "relation"."application"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relation"."unit" ADD CONSTRAINT "unit_principal_fk" FOREIGN KEY ("principal_uuid") REFERENCES "relation"."unit"("uuid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "relation_endpoint_endpoint_idx" ON "relation"."relation_endpoint" USING btree ("endpoint_uuid");--> statement-breakpoint
CREATE INDEX "relation_unit_unit_idx" ON "relation"."relation_unit" USING btree ("unit_uuid");--> statement-breakpoint
CREATE INDEX "unit_principal_idx" ON "relation"."unit" USING btree ("principal_uuid");