namespace Compress.Core.Onnx;

/// <summary>The outcome of <see cref="OpsetUpgrade.Upgrade"/>.</summary>
/// <param name="Upgraded">True when the model now imports the target ai.onnx opset (or already did).</param>
/// <param name="Reason">Why the model was left unchanged; null when upgraded.</param>
/// <param name="Changes">The rewrites made, one phrase per operator type (e.g. "2 Clip: min/max attributes -> inputs").</param>
public sealed record OpsetUpgradeResult(bool Upgraded, string? Reason, IReadOnlyList<string> Changes);
