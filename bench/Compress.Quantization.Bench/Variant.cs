using Compress.Core.Onnx.Proto;

namespace Compress.Quantization.Bench;

/// <summary>One compressed form of a model: its bytes and what produced it.</summary>
internal sealed record Variant(string Name, byte[] Bytes, int NodesQuantized);

/// <summary>How to produce a variant from the fp32 model (null when the pass does not apply).</summary>
internal sealed record VariantRecipe(string Name, Func<ModelProto, BenchModel, Variant?> Make);
