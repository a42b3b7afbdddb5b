using Compress.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Evaluation;

/// <summary>
/// The ONNX Runtime session evaluation runs compressed models in: Compress.Runtime's defaults (so the accuracy gate
/// measures what an app will run, exact int8 products on CPUs without VNNI included), on one thread (a build
/// compresses several models at once), logging errors only.
/// </summary>
internal static class EvaluationSessionOptions
{
    /// <summary>New options; the caller disposes them.</summary>
    public static SessionOptions Create() => new CompressedModelOptions
    {
        IntraOpNumThreads = 1,
        ConfigureSessionOptions = o => o.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    }.CreateSessionOptions(externalDataFolder: null);
}
