namespace Compress.Core.Tests.Onnx;

/// <summary>What happened to one backend test case in ONNX Runtime.</summary>
internal enum BackendCaseOutcome
{
    /// <summary>ORT ran every data set and all outputs matched the reference within tolerance.</summary>
    Agreed,

    /// <summary>ORT cannot load or run the case (unsupported op, opset, type, non-tensor values).</summary>
    SkippedByOrt,

    /// <summary>Outputs differ, and the case is on the documented list of ORT vs reference-data differences.</summary>
    KnownDifference,

    /// <summary>Outputs differ (or the harness broke) and the case is not a known difference.</summary>
    Failed,
}

/// <summary>Outcome of one case plus why (skip reason group, or the difference found).</summary>
internal sealed record BackendCaseResult(string Name, BackendCaseOutcome Outcome, string Detail);
