using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime;

/// <summary>
/// How <see cref="CompressedModel"/> sets up its ONNX Runtime session (CPU execution provider).
/// The defaults suit int8 and pruned models produced by Compress; every ONNX Runtime knob remains
/// reachable through <see cref="ConfigureSessionOptions"/>.
/// </summary>
public sealed class CompressedModelOptions
{
    // ONNX Runtime session config keys (onnxruntime_session_options_config_keys.h).
    internal const string PreciseQuantizedMatMulKey = "session.x64quantprecision";
    internal const string IntraOpSpinningKey = "session.intra_op.allow_spinning";
    internal const string InterOpSpinningKey = "session.inter_op.allow_spinning";
    internal const string ExternalDataFolderKey = "session.model_external_initializers_file_folder_path";

    /// <summary>Threads used inside one operator (0, the default, lets ONNX Runtime choose: one per physical core).</summary>
    public int IntraOpNumThreads { get; set; }

    /// <summary>Threads used to run independent operators in parallel with <see cref="ExecutionMode.ORT_PARALLEL"/> (0 = ONNX Runtime's choice).</summary>
    public int InterOpNumThreads { get; set; }

    /// <summary>Graph optimizations applied when the model is loaded; default <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>, which also fuses int8 QDQ patterns into integer kernels.</summary>
    public GraphOptimizationLevel GraphOptimizationLevel { get; set; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Sequential (default) or parallel execution of the graph's operators.</summary>
    public ExecutionMode ExecutionMode { get; set; } = ExecutionMode.ORT_SEQUENTIAL;

    /// <summary>Whether ONNX Runtime plans memory from the first run's shapes and reuses the plan (default <see langword="true"/>; turn off when input shapes change on every call).</summary>
    public bool EnableMemoryPattern { get; set; } = true;

    /// <summary>Whether ONNX Runtime keeps a CPU memory arena between runs (default <see langword="true"/>; turn off to return memory to the system after each run at some speed cost).</summary>
    public bool EnableCpuMemArena { get; set; } = true;

    /// <summary>
    /// Use exact (u8u8) instead of fast (u8s8) int8 matrix multiplication on x64 CPUs without VNNI
    /// (default <see langword="true"/>). The fast AVX2 kernel adds pairs of u8×s8 products in 16 bits and
    /// saturates when weights use the full int8 range, which Compress's symmetric quantization does; the
    /// result can be badly wrong. CPUs with VNNI (and ARM) are unaffected either way; on AVX2-only CPUs the
    /// exact kernel costs some speed.
    /// </summary>
    public bool PreciseQuantizedMatMul { get; set; } = true;

    /// <summary>
    /// Whether idle ONNX Runtime pool threads spin before sleeping (default <see langword="true"/>, ONNX Runtime's
    /// default: lowest latency). Set <see langword="false"/> in apps where other work shares the CPU, so that
    /// inference does not burn cores between calls.
    /// </summary>
    public bool AllowThreadSpinning { get; set; } = true;

    /// <summary>Called last with the session options before the session is created, to set anything not covered here (logging, profiling, config entries, other execution providers).</summary>
    public Action<SessionOptions>? ConfigureSessionOptions { get; set; }

    /// <summary>A copy of these settings (the hook delegate is shared).</summary>
    internal CompressedModelOptions Clone() => (CompressedModelOptions)MemberwiseClone();

    /// <summary>Builds ONNX Runtime session options from these settings. The caller disposes them.</summary>
    /// <param name="externalDataFolder">Where external weight files live when the model comes from memory, or <see langword="null"/>.</param>
    internal SessionOptions CreateSessionOptions(string? externalDataFolder)
    {
        var options = new SessionOptions();
        try
        {
            options.IntraOpNumThreads = IntraOpNumThreads;
            options.InterOpNumThreads = InterOpNumThreads;
            options.GraphOptimizationLevel = GraphOptimizationLevel;
            options.ExecutionMode = ExecutionMode;
            options.EnableMemoryPattern = EnableMemoryPattern;
            options.EnableCpuMemArena = EnableCpuMemArena;
            if (PreciseQuantizedMatMul)
            {
                options.AddSessionConfigEntry(PreciseQuantizedMatMulKey, "1");
            }

            if (!AllowThreadSpinning)
            {
                options.AddSessionConfigEntry(IntraOpSpinningKey, "0");
                options.AddSessionConfigEntry(InterOpSpinningKey, "0");
            }

            if (externalDataFolder is not null)
            {
                // A model loaded from bytes has no folder of its own to resolve external data against.
                options.AddSessionConfigEntry(ExternalDataFolderKey, externalDataFolder);
            }

            ConfigureSessionOptions?.Invoke(options);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }
}
