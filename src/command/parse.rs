//! `Parse`: a cursor over one request's arguments, after the command (and subcommand) name.
//!
//! The per-command parsers pull their arguments through it, so "missing argument", "not an
//! integer" and "left-over arguments" produce the same Redis error everywhere. By the time a
//! parser runs, the table has already checked the command's arity, so a missing argument here
//! means a command-specific count rule (like `PING`'s at most one argument) was broken.

use bytes::Bytes;

use super::CommandError;
use crate::resp::number::parse_i64;

/// The not-yet-consumed arguments of a request. Arguments come out as clones of the request's
/// `Bytes`: reference-counted views of the same buffer, not copies.
#[derive(Debug)]
pub struct Parse<'a> {
    /// Full command name (`set`, `cluster|keyslot`), for arity and expire-time errors.
    name: &'static str,
    /// Remaining arguments, in order.
    args: std::slice::Iter<'a, Bytes>,
}

impl<'a> Parse<'a> {
    /// A cursor over `args`, the arguments after the command (and subcommand) name; `name` is
    /// the command's full name for error messages.
    pub fn new(name: &'static str, args: &'a [Bytes]) -> Parse<'a> {
        Parse {
            name,
            args: args.iter(),
        }
    }

    /// The command's full name, lower case.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How many arguments are left.
    pub fn remaining(&self) -> usize {
        self.args.len()
    }

    /// The next argument; its absence is an arity error.
    pub fn next_bytes(&mut self) -> Result<Bytes, CommandError> {
        self.args
            .next()
            .cloned()
            .ok_or(CommandError::WrongArity(self.name))
    }

    /// The next argument if there is one.
    pub fn next_optional(&mut self) -> Option<Bytes> {
        self.args.next().cloned()
    }

    /// The next argument as an integer, with Redis' strict syntax.
    pub fn next_int(&mut self) -> Result<i64, CommandError> {
        let arg = self.next_bytes()?;
        parse_int(&arg)
    }

    /// The next argument as a float (`getDoubleFromObjectOrReply`).
    pub fn next_float(&mut self) -> Result<f64, CommandError> {
        let arg = self.next_bytes()?;
        crate::keyspace::parse_double(&arg).ok_or(CommandError::NotFloat)
    }

    /// The next argument as a count that must be positive or zero (`LPOP key count`).
    pub fn next_count(&mut self) -> Result<usize, CommandError> {
        let n = self.next_int()?;
        usize::try_from(n).map_err(|_| CommandError::NotPositive)
    }

    /// The next argument as an option name, upper-cased for matching.
    pub fn next_option(&mut self) -> Option<String> {
        self.next_optional()
            .map(|o| String::from_utf8_lossy(&o).to_ascii_uppercase())
    }

    /// All arguments left.
    pub fn rest(&mut self) -> Vec<Bytes> {
        self.args.by_ref().cloned().collect()
    }

    /// Ensures every argument was consumed: extra ones are an arity error, as Redis reports
    /// them for commands (like `PING`) whose table arity is open-ended.
    pub fn finish(&self) -> Result<(), CommandError> {
        if self.args.len() == 0 {
            Ok(())
        } else {
            Err(CommandError::WrongArity(self.name))
        }
    }
}

/// An integer argument (`getLongLongFromObjectOrReply`).
pub fn parse_int(arg: &[u8]) -> Result<i64, CommandError> {
    parse_i64(arg).ok_or(CommandError::NotInteger)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<Bytes> {
        list.iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect()
    }

    #[test]
    fn cursor_reads_in_order() {
        let args = args(&["k", "12"]);
        let mut p = Parse::new("test", &args);
        assert_eq!(p.remaining(), 2);
        assert_eq!(p.next_bytes().unwrap(), "k");
        assert_eq!(p.next_int(), Ok(12));
        assert_eq!(p.finish(), Ok(()));
        assert_eq!(p.next_bytes(), Err(CommandError::WrongArity("test")));
    }

    #[test]
    fn integers_are_strict() {
        for bad in ["+1", " 1", "01", "1.0", "", "9223372036854775808"] {
            assert_eq!(
                parse_int(bad.as_bytes()),
                Err(CommandError::NotInteger),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn left_over_arguments_are_an_arity_error() {
        let args = args(&["a", "b"]);
        let p = Parse::new("test", &args);
        assert_eq!(p.finish(), Err(CommandError::WrongArity("test")));
    }
}
