// Express 4 is installed under the alias `express4` to test the adapter against both majors; its API, as
// the adapter uses it, is the one @types/express describes.
declare module 'express4' {
  import express from 'express'
  export default express
}
