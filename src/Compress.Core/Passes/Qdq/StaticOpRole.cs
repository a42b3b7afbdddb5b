namespace Compress.Core.Passes.Qdq;

/// <summary>How static quantization treats an operator (after onnxruntime.quantization's QDQ registry).</summary>
internal enum StaticOpRole
{
    /// <summary>Not quantized.</summary>
    None,

    /// <summary>Conv, ConvTranspose, MatMul, Gemm: activation input, constant weight (per-channel capable), optional int32 bias.</summary>
    Weighted,

    /// <summary>Add, Mul, Concat: every input quantized (constants as per-tensor weights), output with its own range.</summary>
    Elementwise,

    /// <summary>Sigmoid, Softmax, AveragePool, GlobalAveragePool, LeakyRelu: input and output with their own ranges.</summary>
    Unary,

    /// <summary>Data movement (Reshape, Transpose, MaxPool, Resize, Flatten…): the output reuses the input's scale and zero point.</summary>
    SharedParameters,

    /// <summary>Relu, Clip: folded into the producer's output quantization when possible, else like <see cref="Unary"/>.</summary>
    RemovableActivation,
}

/// <summary>Maps operator types to <see cref="StaticOpRole"/>.</summary>
internal static class StaticOpRoles
{
    public static StaticOpRole Of(string opType) => opType switch
    {
        "Conv" or "ConvTranspose" or "MatMul" or "Gemm" => StaticOpRole.Weighted,
        "Add" or "Mul" or "Concat" => StaticOpRole.Elementwise,
        "Sigmoid" or "Softmax" or "AveragePool" or "GlobalAveragePool" or "LeakyRelu" => StaticOpRole.Unary,
        "MaxPool" or "Reshape" or "Transpose" or "Squeeze" or "Unsqueeze" or "Flatten" or "Resize" or "Gather"
            or "Slice" or "Split" or "Pad" or "Identity" => StaticOpRole.SharedParameters,
        "Relu" or "Clip" => StaticOpRole.RemovableActivation,
        _ => StaticOpRole.None,
    };
}
