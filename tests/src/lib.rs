//! black-box test helpers
