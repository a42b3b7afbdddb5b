namespace Compress.Core.Evaluation;

/// <summary>How much one compressed layer contributes to the error: the model measured with only this layer left as in the original.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="OpType">Its operator.</param>
/// <param name="RelativeErrorWithout">Relative output error of the model with every other candidate compressed.</param>
/// <param name="Sensitivity">Relative error of the fully compressed model minus <paramref name="RelativeErrorWithout"/>: the error this layer adds.</param>
/// <param name="AgreementWithout">Top-1 agreement with only this layer left as in the original; null for non-classification outputs.</param>
public sealed record LayerSensitivity(string Node, string OpType, double RelativeErrorWithout, double Sensitivity, double? AgreementWithout);
