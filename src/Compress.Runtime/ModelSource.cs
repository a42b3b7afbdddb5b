namespace Compress.Runtime;

/// <summary>Where a model's bytes came from and how many there were as stored (for <see cref="CompressedModel.Source"/>).</summary>
internal readonly record struct ModelSource(string Description, long SizeInBytes);
