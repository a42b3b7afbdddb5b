namespace Compress.Core.Pipeline;

/// <summary>How a model that misses its accuracy budget is reported (<c>--on-accuracy-failure</c>).</summary>
public enum AccuracyFailureSeverity
{
    /// <summary>An error: the model is not written and the build fails.</summary>
    Error,

    /// <summary>A warning: the model is written and the build goes on.</summary>
    Warning,
}
