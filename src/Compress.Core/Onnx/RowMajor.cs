namespace Compress.Core.Onnx;

/// <summary>Layout helpers for row-major 2-D data (ONNX stores tensors in C order).</summary>
public static class RowMajor
{
    /// <summary>The [columns, rows] transpose of a [rows, columns] matrix.</summary>
    public static T[] Transpose<T>(ReadOnlySpan<T> values, int rows, int columns)
    {
        var result = new T[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = values[(r * columns) + c];
            }
        }

        return result;
    }
}
