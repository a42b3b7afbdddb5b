namespace Compress.Runtime;

/// <summary>
/// Thrown when a model cannot be loaded (missing, unreadable or invalid file) or cannot be run with the
/// inputs given (unknown input name, wrong element type, shape or length). The message says what the
/// model expected.
/// </summary>
public class CompressedModelException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public CompressedModelException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public CompressedModelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error (for example from ONNX Runtime).</param>
    public CompressedModelException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about the named model.</summary>
    /// <param name="modelName">The model's name (see <see cref="CompressedModel.Name"/>).</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public CompressedModelException(string modelName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ModelName = modelName;
    }

    /// <summary>The name of the model concerned, or <see langword="null"/> when not known.</summary>
    public string? ModelName { get; }
}
