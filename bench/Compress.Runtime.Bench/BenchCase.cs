namespace Compress.Runtime.Bench;

/// <summary>The model and batch size of one measurement.</summary>
public enum BenchCase
{
    /// <summary>digits-mlp, one row [1,64].</summary>
    DigitsBatch1,

    /// <summary>digits-mlp, 64 rows [64,64].</summary>
    DigitsBatch64,

    /// <summary>fashion-cnn, 64 images [64,1,28,28].</summary>
    FashionBatch64,
}
