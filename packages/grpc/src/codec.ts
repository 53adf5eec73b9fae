import {
  create,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  isMessage,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { MethodDefinition } from "@grpc/grpc-js";

/** Encodes a message or a message initializer of the given type. */
export function encode<D extends DescMessage>(desc: D, value: MessageInitShape<D>): Buffer {
  const msg = isMessage(value, desc) ? value : create(desc, value);
  return Buffer.from(toBinary(desc, msg));
}

/** The grpc-js method definition of a protobuf-es method descriptor. */
export function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (v) => encode(method.input, v as MessageInitShape<DescMessage>),
    requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
    responseSerialize: (v) => encode(method.output, v as MessageInitShape<DescMessage>),
    responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    originalName: method.localName,
  };
}

/** The grpc-js service definition of a protobuf-es service descriptor, keyed by local method name. */
export function serviceDefinition(service: DescService): Record<string, MethodDefinition<unknown, unknown>> {
  return Object.fromEntries(service.methods.map((m) => [m.localName, methodDefinition(m)]));
}

/** Every file the services (and `extra` files) need, each once, encoded as FileDescriptorProto (for reflection). */
export function encodedFiles(services: DescService[], extra: DescFile[] = []): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    const proto = create(FileDescriptorProtoSchema, file.proto);
    out.push(Buffer.from(toBinary(FileDescriptorProtoSchema, proto)));
    file.dependencies.forEach(visit);
  };
  for (const s of services) visit(s.file);
  extra.forEach(visit);
  return out;
}
