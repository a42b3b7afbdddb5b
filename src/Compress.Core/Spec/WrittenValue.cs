namespace Compress.Core.Spec;

/// <summary>A value read from the spec with the entry it came from, so later cross-checks can point at it.</summary>
internal sealed record WrittenValue<T>(T Value, MappingEntry Entry);
