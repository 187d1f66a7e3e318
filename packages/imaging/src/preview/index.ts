// Previews: PNG encoding and slice mosaics.
export { encodePng, type PngImage } from './png.js'
export { mosaic, type DisplayWindow, type Mosaic, type MosaicOptions } from './mosaic.js'
