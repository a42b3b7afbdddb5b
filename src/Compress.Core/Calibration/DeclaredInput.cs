using System.Globalization;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Calibration;

/// <summary>A model input as the main graph declares it: element type and (when declared) shape.</summary>
/// <param name="Name">Input name.</param>
/// <param name="ElementType">Element type (<see cref="TensorElementType.DataTypeMax"/> for non-tensor inputs).</param>
/// <param name="Dims">Dimensions, a value for fixed ones and null for symbolic or unknown ones; null when no shape is declared.</param>
/// <param name="DimTexts">The dimensions as written (<c>2</c>, <c>batch</c>, <c>?</c>), for messages.</param>
/// <param name="Required">False for an input that also has an initializer (a default the data may override).</param>
internal sealed record DeclaredInput(string Name, TensorElementType ElementType, IReadOnlyList<long?>? Dims, IReadOnlyList<string> DimTexts, bool Required)
{
    /// <summary>The shape as written, e.g. <c>[2,batch,64]</c>, or "no declared shape".</summary>
    public string ShapeText => Dims is null ? "(no declared shape)" : $"[{string.Join(',', DimTexts)}]";

    /// <summary>The main graph's inputs in order.</summary>
    public static IReadOnlyList<DeclaredInput> Of(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var initializers = new HashSet<string>(model.Graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        var inputs = new List<DeclaredInput>();
        foreach (ValueInfoProto input in model.Graph.Input)
        {
            TypeProto.Types.Tensor? tensor = input.Type?.TensorType;
            TensorElementType type = tensor is null ? TensorElementType.DataTypeMax : (TensorElementType)tensor.ElemType;
            List<long?>? dims = null;
            var texts = new List<string>();
            if (tensor?.Shape is not null)
            {
                dims = [];
                foreach (TensorShapeProto.Types.Dimension d in tensor.Shape.Dim)
                {
                    bool fixedSize = d.HasDimValue && d.DimValue > 0;
                    dims.Add(fixedSize ? d.DimValue : null);
                    texts.Add(fixedSize ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.HasDimParam && d.DimParam.Length > 0 ? d.DimParam : "?");
                }
            }

            inputs.Add(new DeclaredInput(input.Name, type, dims, texts, !initializers.Contains(input.Name)));
        }

        return inputs;
    }
}
