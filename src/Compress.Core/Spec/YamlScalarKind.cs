namespace Compress.Core.Spec;

/// <summary>What a YAML scalar means under the YAML 1.2 core schema (the one JSON Schema tools use).</summary>
internal enum YamlScalarKind
{
    Null,
    Boolean,
    Integer,
    Float,
    String,

    /// <summary>A scalar with an application tag (e.g. <c>!foo</c>) that the spec does not use.</summary>
    CustomTag,
}
