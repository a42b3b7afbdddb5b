namespace ConsumerApp;

/// <summary>An original model in ../shared, the name of its compressed output, and its test data.</summary>
internal sealed record ModelPair(string OriginalName, string CompressedName, string InputsFile, string LabelsFile);
