using Compress.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Passes;

/// <summary>Runs models with ONNX Runtime (CPU, one thread) for the tests.</summary>
internal static class OrtRunner
{
    /// <summary>Runs a single-float-input model and returns its first output.</summary>
    public static float[] Run(ModelProto model, string inputName, float[] data, long[] shape)
    {
        using InferenceSession session = CreateSession(model.ToByteArray(), null);
        return Run(session, new Dictionary<string, (float[] Data, long[] Shape)> { [inputName] = (data, shape) }, session.OutputNames[0]);
    }

    /// <summary>Runs <see cref="TinyModels.MatMulInIf"/>-shaped models: X [rows, K] and a scalar bool <c>cond</c> choosing the branch.</summary>
    public static float[] RunWithCondition(ModelProto model, float[] x, int rows, bool condition)
    {
        using InferenceSession session = CreateSession(model.ToByteArray(), null);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [rows, TinyModels.K]);
        using var cond = OrtValue.CreateTensorValueFromMemory(new[] { condition }, []);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["X", "cond"], [input, cond], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Runs a session with float inputs and returns one float output.</summary>
    public static float[] Run(InferenceSession session, IReadOnlyDictionary<string, (float[] Data, long[] Shape)> inputs, string outputName)
    {
        var values = new List<OrtValue>();
        try
        {
            foreach ((string _, (float[] data, long[] shape)) in inputs)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            }

            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, inputs.Keys.ToArray(), values, [outputName]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        finally
        {
            foreach (OrtValue v in values)
            {
                v.Dispose();
            }
        }
    }

    public static InferenceSession CreateSession(byte[] model, string? optimizedModelPath, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = level,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
        };
        if (optimizedModelPath is not null)
        {
            options.OptimizedModelFilePath = optimizedModelPath;
        }

        return new InferenceSession(model, options);
    }

    /// <summary>The graph ORT runs after its ORT_ENABLE_EXTENDED optimizations (fusions), or after <paramref name="level"/>'s.</summary>
    public static ModelProto OptimizedGraph(ModelProto model, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        string path = Path.Combine(Path.GetTempPath(), $"quant-opt-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            using (CreateSession(model.ToByteArray(), path, level))
            {
            }

            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Index of the largest value in each row of a [rows, columns] matrix.</summary>
    public static int[] ArgMax(float[] values, int columns)
    {
        var result = new int[values.Length / columns];
        for (int r = 0; r < result.Length; r++)
        {
            int best = 0;
            for (int c = 1; c < columns; c++)
            {
                if (values[(r * columns) + c] > values[(r * columns) + best])
                {
                    best = c;
                }
            }

            result[r] = best;
        }

        return result;
    }
}
