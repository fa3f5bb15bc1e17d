//! Integration tests of the eval crate on generated feature clusters.
mod clusters;
mod knn;
mod linear_probe;
