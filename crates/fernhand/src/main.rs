//! The `fernhand` binary: one command line for every part of the product.

fn main() {}
