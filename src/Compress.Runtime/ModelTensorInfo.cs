namespace Compress.Runtime;

/// <summary>Describes one input or output of a model: name, element type and declared shape.</summary>
public sealed class ModelTensorInfo
{
    /// <summary>Creates a description.</summary>
    /// <param name="name">The input or output name.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="shape">The declared dimensions, -1 for a dimension that is not fixed.</param>
    /// <param name="symbolicDimensions">For each dimension its symbolic name (for example <c>batch</c>), or an empty string.</param>
    public ModelTensorInfo(string name, ModelElementType elementType, IReadOnlyList<long> shape, IReadOnlyList<string> symbolicDimensions)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(symbolicDimensions);
        if (symbolicDimensions.Count != shape.Count)
        {
            throw new ArgumentException("There must be one symbolic name (possibly empty) per dimension.", nameof(symbolicDimensions));
        }

        Name = name;
        ElementType = elementType;
        Shape = shape.ToArray();
        SymbolicDimensions = symbolicDimensions.ToArray();
    }

    /// <summary>The input or output name.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public ModelElementType ElementType { get; }

    /// <summary>The declared dimensions; -1 where a dimension is symbolic or unknown. Empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>For each dimension its symbolic name (such as <c>batch</c>), or an empty string for a fixed or unnamed dimension.</summary>
    public IReadOnlyList<string> SymbolicDimensions { get; }

    /// <summary>Number of dimensions (0 for a scalar).</summary>
    public int Rank => Shape.Count;

    /// <summary>Whether every dimension is fixed (no -1).</summary>
    public bool IsFixedShape => Shape.All(d => d >= 0);

    /// <summary>Describes the tensor like <c>input: Float32[batch,64]</c>.</summary>
    public override string ToString()
    {
        IEnumerable<string> dims = Shape.Select((d, i) => d >= 0
            ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : "?");
        return $"{Name}: {ElementType}[{string.Join(',', dims)}]";
    }
}
