namespace Compress.Core.Spec;

/// <summary>A read <c>node_overrides</c> entry with the entries of its types, for the type cross-checks.</summary>
internal sealed record NodeOverrideDraft(NodeOverrideSpec Spec, MappingEntry? ActivationTypeEntry, MappingEntry? WeightTypeEntry);
