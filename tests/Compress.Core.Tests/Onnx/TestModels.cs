using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Onnx;

/// <summary>Small models built in code, with tensors in every place external data may appear.</summary>
internal static class TestModels
{
    /// <summary>Tensor names that hold at least 1024 bytes (so they go to external data with the default threshold).</summary>
    public static readonly string[] LargeTensorNames = ["W", "const_big", "then_init", "else_const", "fn_const", "sparse_values", "sparse_indices"];

    /// <summary>
    /// Main graph: initializer W (64x64 float, 16 KiB), small initializer B (64 float, 256 B), a Constant
    /// node (300 float), an If whose branches hold an initializer and a Constant, a sparse initializer
    /// (300 values), and a model-local function with a Constant in its body.
    /// </summary>
    public static ModelProto WithTensorsEverywhere()
    {
        var graph = new GraphProto { Name = "main" };
        graph.Initializer.Add(TensorData.CreateFloat("W", [64, 64], Sequence(64 * 64, 0.5f)));
        graph.Initializer.Add(TensorData.CreateFloat("B", [64], Sequence(64, -1f)));
        graph.Node.Add(Constant("const_big", TensorData.CreateFloat("const_big", [300], Sequence(300, 3f))));

        var thenBranch = new GraphProto { Name = "then" };
        thenBranch.Initializer.Add(TensorData.CreateFloat("then_init", [256], Sequence(256, 7f)));
        thenBranch.Node.Add(new NodeProto { OpType = "Identity", Input = { "then_init" }, Output = { "then_out" } });
        thenBranch.Output.Add(new ValueInfoProto { Name = "then_out" });
        var elseBranch = new GraphProto { Name = "else" };
        elseBranch.Node.Add(Constant("else_out", TensorData.CreateFloat("else_const", [256], Sequence(256, 9f))));
        elseBranch.Output.Add(new ValueInfoProto { Name = "else_out" });
        graph.Node.Add(new NodeProto
        {
            OpType = "If",
            Name = "branch",
            Input = { "cond" },
            Output = { "picked" },
            Attribute =
            {
                new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch },
                new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch },
            },
        });

        graph.SparseInitializer.Add(new SparseTensorProto
        {
            Values = TensorData.CreateFloat("sparse_values", [300], Sequence(300, 11f)),
            Indices = TensorData.CreateInt64("sparse_indices", [300], [.. Enumerable.Range(0, 300).Select(i => (long)i * 2)]),
            Dims = { 600 },
        });
        graph.Input.Add(new ValueInfoProto { Name = "cond" });
        graph.Output.Add(new ValueInfoProto { Name = "picked" });

        var function = new FunctionProto { Name = "AddBig", Domain = "test.local", Input = { "x" }, Output = { "y" } };
        function.Node.Add(Constant("fn_c", TensorData.CreateFloat("fn_const", [256], Sequence(256, 13f))));
        function.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "fn_c" }, Output = { "y" } });
        function.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });

        var model = new ModelProto { IrVersion = 8, ProducerName = "onnxio-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "test.local", Version = 1 });
        model.Functions.Add(function);
        return model;
    }

    /// <summary>Every tensor of the model by name (sparse indices included).</summary>
    public static Dictionary<string, TensorProto> TensorsByName(ModelProto model) =>
        OnnxModelWalker.Tensors(model).ToDictionary(site => site.Tensor.Name, site => site.Tensor);

    private static NodeProto Constant(string output, TensorProto value) => new()
    {
        OpType = "Constant",
        Output = { output },
        Attribute = { new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value } },
    };

    private static float[] Sequence(int count, float start) => [.. Enumerable.Range(0, count).Select(i => start + (i * 0.25f))];
}
