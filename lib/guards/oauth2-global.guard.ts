import { type ExecutionContext, Injectable } from '@nestjs/common';
import { isOAuth2ContextType } from '../transports/context-type';
import { OAuth2Guard } from './oauth2.guard';

/**
 * `OAuth2Guard` as `global: true` binds it: it leaves out the context types that
 * `transports.globalContextTypes` does not list (all four are listed by default). A context type the
 * guard does not know is never left out: the guard rejects what it cannot check.
 */
@Injectable()
export class OAuth2GlobalGuard extends OAuth2Guard {
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const type = context.getType<string>();
    if (!this.options.transports.globalContextTypes.has(type) && isOAuth2ContextType(type)) {
      return true;
    }
    return super.canActivate(context);
  }
}
