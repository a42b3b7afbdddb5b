using Microsoft.Extensions.Logging;

namespace Compress.Runtime.DependencyInjection;

/// <summary>The log messages of model loading (source-generated, so disabled levels cost nothing).</summary>
internal static partial class ModelLoadLog
{
    [LoggerMessage(EventId = 1, EventName = "ModelLoaded", Level = LogLevel.Information,
        Message = "Loaded model '{Registration}' ({ModelName}) from {Source}: {SizeInBytes} bytes in {LoadMilliseconds:F1} ms, {Sessions} session(s); compression: {Compression}")]
    public static partial void Loaded(
        ILogger logger, string registration, string modelName, string source, long sizeInBytes, double loadMilliseconds, int sessions, string compression);

    [LoggerMessage(EventId = 2, EventName = "ModelLoadFailed", Level = LogLevel.Error,
        Message = "Could not load model '{Registration}' from {Path}")]
    public static partial void LoadFailed(ILogger logger, Exception exception, string registration, string path);
}
