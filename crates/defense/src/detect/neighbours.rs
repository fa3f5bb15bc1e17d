//! Exact nearest neighbours of every embedding among all the others, by Euclidean
//! distance computed from differences (not from dot products, which lose precision for
//! close pairs: the reference detectors ask for the same).
use rayon::prelude::*;

/// For every row, its `count` nearest other rows, nearest first.
pub(crate) struct Neighbours {
    count: usize,
    /// Row-major `rows x count` distances, ascending in each row.
    distances: Vec<f64>,
    /// The row index of each neighbour.
    indices: Vec<usize>,
}

impl Neighbours {
    /// The `count` nearest other rows of each of the `values.len() / dim` rows. Equal
    /// distances are ordered by row index, and each row is computed on its own, so the
    /// result is the same whatever the thread count. `count` must be below the row count.
    pub(crate) fn of(values: &[f32], dim: usize, count: usize) -> Self {
        let rows = values.len() / dim;
        debug_assert!(count < rows, "callers check the neighbour count against the rows");
        let row = |i: usize| &values[i * dim..(i + 1) * dim];
        let per_row: Vec<(Vec<f64>, Vec<usize>)> = (0..rows)
            .into_par_iter()
            .map(|i| {
                let a = row(i);
                let mut all: Vec<(f64, usize)> = (0..rows)
                    .filter(|&j| j != i)
                    .map(|j| {
                        let d2: f64 = a
                            .iter()
                            .zip(row(j))
                            .map(|(x, y)| {
                                let d = f64::from(*x) - f64::from(*y);
                                d * d
                            })
                            .sum();
                        (d2.sqrt(), j)
                    })
                    .collect();
                let by =
                    |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                all.select_nth_unstable_by(count - 1, by);
                all.truncate(count);
                all.sort_by(by);
                all.into_iter().unzip()
            })
            .collect();
        let mut distances = Vec::with_capacity(rows * count);
        let mut indices = Vec::with_capacity(rows * count);
        for (d, j) in per_row {
            distances.extend(d);
            indices.extend(j);
        }
        Self { count, distances, indices }
    }

    /// Distances from row `i` to its neighbours, nearest first.
    pub(crate) fn distances(&self, i: usize) -> &[f64] {
        &self.distances[i * self.count..(i + 1) * self.count]
    }

    /// Row indices of row `i`'s neighbours, nearest first.
    pub(crate) fn indices(&self, i: usize) -> &[usize] {
        &self.indices[i * self.count..(i + 1) * self.count]
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.distances.len() / self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_line_find_their_neighbours_in_order() {
        // 0, 1, 3, 7 on the x axis.
        let values = [0.0, 0.0, 1.0, 0.0, 3.0, 0.0, 7.0, 0.0];
        let n = Neighbours::of(&values, 2, 2);
        assert_eq!(n.rows(), 4);
        assert_eq!(n.distances(0), [1.0, 3.0]);
        assert_eq!(n.indices(0), [1, 2]);
        assert_eq!(n.distances(2), [2.0, 3.0]);
        assert_eq!(n.indices(2), [1, 0]);
        assert_eq!(n.indices(3), [2, 1]);
    }

    #[test]
    fn ties_go_to_the_lower_index() {
        let values = [0.0, 1.0, -1.0, 2.0];
        let n = Neighbours::of(&values, 1, 2);
        assert_eq!(n.indices(0), [1, 2]);
        assert_eq!(n.distances(0), [1.0, 1.0]);
    }
}
