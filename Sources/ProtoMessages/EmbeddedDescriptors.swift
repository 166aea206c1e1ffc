/// Descriptors of the protos in `Protos/`, embedded at generation time so the server can answer
/// reflection requests without reading files at run time.
public enum EmbeddedDescriptors {}
